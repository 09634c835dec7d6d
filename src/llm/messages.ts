import { describe, SgError } from '../errors/index.js';
import type { ChatMessage, ContentPart } from './chat.js';

const MESSAGE_KEYS = new Set(['role', 'content', 'name']);

type Fail = (field: string, expected: string) => never;

/**
 * One chat message checked and normalised: key case folded (`Role` → `role`, as MLRun does), only `role`,
 * `content` and `name`. Templates need string content; messages read from an input may also hold
 * OpenAI content-part arrays (llm.md section 2.2).
 */
export function normaliseMessage(raw: unknown, at: string, fail: Fail, allowParts: boolean): ChatMessage {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    fail(at, `an object {role, content}, got ${describe(raw)}`);
  const m: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    const key = k.toLowerCase();
    if (!MESSAGE_KEYS.has(key)) fail(`${at}.${k}`, 'only role, content and name in a message');
    m[key] = v;
  }
  if (typeof m.role !== 'string' || m.role === '') fail(`${at}.role`, `a non-empty string, got ${describe(m.role)}`);
  const content = m.content;
  if (typeof content !== 'string') {
    if (!allowParts || !Array.isArray(content) || !content.every(isPart)) {
      fail(
        `${at}.content`,
        `${allowParts ? 'a string or a list of content parts' : 'a string'}, got ${describe(content)}`,
      );
    }
  }
  if (m.name !== undefined && typeof m.name !== 'string') fail(`${at}.name`, `a string, got ${describe(m.name)}`);
  const out: ChatMessage = { role: m.role as string, content: content as string | ContentPart[] };
  if (m.name !== undefined) out.name = m.name as string;
  return out;
}

function isPart(p: unknown): boolean {
  return p !== null && typeof p === 'object' && !Array.isArray(p) && typeof (p as { type?: unknown }).type === 'string';
}

/** A template: a string means one user message (llm.md section 1). */
export function normaliseTemplate(raw: unknown, at: string, fail: Fail): ChatMessage[] {
  if (typeof raw === 'string') return [{ role: 'user', content: raw }];
  if (!Array.isArray(raw)) fail(at, `a list of messages or a string, got ${describe(raw)}`);
  return (raw as unknown[]).map((m, i) => normaliseMessage(m, `${at}[${i}]`, fail, false));
}

/** The `messages` of an input with no template: a non-empty list of valid messages (llm.md section 2.2). */
export function inputMessages(input: unknown, endpoint: string, step: string | undefined): ChatMessage[] {
  const fail: Fail = (field, expected) => {
    throw new SgError(
      'SG_ERR_LLM_INPUT',
      `endpoint '${endpoint}': expected 'messages': a list of {role, content} (${field}: ${expected})`,
      {
        step,
        endpoint,
        details: { field, expected },
      },
    );
  };
  const raw =
    input !== null && typeof input === 'object' && !Array.isArray(input)
      ? (input as { messages?: unknown }).messages
      : undefined;
  if (!Array.isArray(raw) || raw.length === 0) fail('messages', `a non-empty list, got ${describe(raw)}`);
  return (raw as unknown[]).map((m, i) => normaliseMessage(m, `messages[${i}]`, fail, true));
}
