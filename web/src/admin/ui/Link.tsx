import type { JSX } from 'preact';
import { routePath, type Route } from '../router';
import { useEnv } from './env';

type AnchorProps = Omit<JSX.HTMLAttributes<HTMLAnchorElement>, 'href' | 'onClick'>;

/**
 * A real link to a console route (middle-click and "open in new tab" work);
 * a plain click navigates in place.
 */
export function Link({ to, class: className, children, ...rest }: AnchorProps & { to: Route; class?: string }) {
  const { navigate } = useEnv();
  return (
    <a
      href={routePath(to)}
      class={className}
      onClick={(e) => {
        if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(to);
      }}
      {...rest}
    >
      {children}
    </a>
  );
}
