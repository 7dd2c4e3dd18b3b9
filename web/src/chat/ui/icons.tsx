// Small inline SVG icons (markup, not inline styles: fine under the CSP).
import type { JSX } from 'preact';

type IconProps = { class?: string };

function Svg(props: { children: JSX.Element | JSX.Element[]; class?: string; viewBox?: string }) {
  return (
    <svg
      class={`icon ${props.class ?? ''}`}
      viewBox={props.viewBox ?? '0 0 24 24'}
      width="20"
      height="20"
      fill="none"
      stroke="currentColor"
      stroke-width="2"
      stroke-linecap="round"
      stroke-linejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      {props.children}
    </svg>
  );
}

export const SendIcon = (p: IconProps) => (
  <Svg class={p.class}>
    <path d="M5 12h13" />
    <path d="M12 5l7 7-7 7" />
  </Svg>
);

export const StopIcon = (p: IconProps) => (
  <Svg class={p.class}>
    <rect x="7" y="7" width="10" height="10" rx="1.5" fill="currentColor" stroke="none" />
  </Svg>
);

export const PlusIcon = (p: IconProps) => (
  <Svg class={p.class}>
    <path d="M12 5v14" />
    <path d="M5 12h14" />
  </Svg>
);

export const HistoryIcon = (p: IconProps) => (
  <Svg class={p.class}>
    <path d="M3 12a9 9 0 1 0 3-6.7" />
    <path d="M3 4v5h5" />
    <path d="M12 7v5l3 2" />
  </Svg>
);

export const SunIcon = (p: IconProps) => (
  <Svg class={p.class}>
    <circle cx="12" cy="12" r="4" />
    <path d="M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4" />
  </Svg>
);

export const MoonIcon = (p: IconProps) => (
  <Svg class={p.class}>
    <path d="M21 12.8A9 9 0 1 1 11.2 3a7 7 0 0 0 9.8 9.8z" />
  </Svg>
);

export const SystemIcon = (p: IconProps) => (
  <Svg class={p.class}>
    <rect x="3" y="4" width="18" height="12" rx="2" />
    <path d="M8 20h8M12 16v4" />
  </Svg>
);

export const ArrowDownIcon = (p: IconProps) => (
  <Svg class={p.class}>
    <path d="M12 5v14" />
    <path d="M19 12l-7 7-7-7" />
  </Svg>
);

export const CloseIcon = (p: IconProps) => (
  <Svg class={p.class}>
    <path d="M6 6l12 12M18 6L6 18" />
  </Svg>
);

export const CheckIcon = (p: IconProps) => (
  <Svg class={p.class}>
    <path d="M5 12.5l4.5 4.5L19 7.5" />
  </Svg>
);

export const DoubleCheckIcon = (p: IconProps) => (
  <Svg class={p.class}>
    <path d="M2 12.5l4.5 4.5L16 7.5" />
    <path d="M12 16l1 1 9.5-9.5" />
  </Svg>
);

export const ClockIcon = (p: IconProps) => (
  <Svg class={p.class}>
    <circle cx="12" cy="12" r="8.5" />
    <path d="M12 7.5V12l3 2" />
  </Svg>
);

export const AlertIcon = (p: IconProps) => (
  <Svg class={p.class}>
    <circle cx="12" cy="12" r="9" />
    <path d="M12 7.5v5.5M12 16.5v.01" />
  </Svg>
);

export const PersonIcon = (p: IconProps) => (
  <Svg class={p.class}>
    <circle cx="12" cy="8" r="4" />
    <path d="M4 21a8 8 0 0 1 16 0" />
  </Svg>
);

export const LogoMark = (p: IconProps) => (
  <svg class={`logo ${p.class ?? ''}`} viewBox="0 0 32 32" width="28" height="28" aria-hidden="true" focusable="false">
    <rect width="32" height="32" rx="9" class="logo-bg" />
    <path d="M9 10.5h14a2.5 2.5 0 0 1 2.5 2.5v6a2.5 2.5 0 0 1-2.5 2.5h-7.5L11 25v-3.5H9A2.5 2.5 0 0 1 6.5 19v-6A2.5 2.5 0 0 1 9 10.5z" class="logo-fg" />
  </svg>
);
