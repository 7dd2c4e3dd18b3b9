// The page's settings from `GET /api/chat/config` (public). Until the server
// answers (or if it cannot), the defaults below are used.

export interface Suggestion {
  label: string;
  text: string;
}

export interface ChatConfig {
  title: string;
  greeting: string;
  suggestions: Suggestion[];
  maxMessageBytes: number;
}

export const DEFAULT_CONFIG: ChatConfig = {
  title: 'Support',
  greeting: 'Hi! How can we help you today?',
  suggestions: [],
  maxMessageBytes: 16384,
};

const str = (v: unknown, max: number): string | null =>
  typeof v === 'string' && v.trim() !== '' ? v.trim().slice(0, max) : null;

/** Reads the config envelope defensively; anything odd falls back to the defaults. */
export function parseConfig(body: unknown): ChatConfig {
  const out: ChatConfig = { ...DEFAULT_CONFIG, suggestions: [] };
  if (typeof body !== 'object' || body === null) return out;
  const envelope = body as Record<string, unknown>;
  if (envelope.success !== true || typeof envelope.data !== 'object' || envelope.data === null) return out;
  const data = envelope.data as Record<string, unknown>;
  out.title = str(data.title, 120) ?? out.title;
  out.greeting = str(data.greeting, 2000) ?? out.greeting;
  if (typeof data.max_message_bytes === 'number' && Number.isSafeInteger(data.max_message_bytes) && data.max_message_bytes > 0)
    out.maxMessageBytes = data.max_message_bytes;
  if (Array.isArray(data.suggestions)) {
    for (const s of data.suggestions.slice(0, 8)) {
      if (typeof s !== 'object' || s === null) continue;
      const r = s as Record<string, unknown>;
      const text = str(r.text, 4000);
      const label = str(r.label, 80) ?? (text ? text.slice(0, 80) : null);
      if (text && label) out.suggestions.push({ label, text });
    }
  }
  return out;
}

export async function fetchConfig(fetcher: typeof fetch = fetch): Promise<ChatConfig> {
  try {
    const res = await fetcher('/api/chat/config', { headers: { Accept: 'application/json' } });
    if (!res.ok) return { ...DEFAULT_CONFIG };
    return parseConfig(await res.json());
  } catch {
    return { ...DEFAULT_CONFIG };
  }
}
