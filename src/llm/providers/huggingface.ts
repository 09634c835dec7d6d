import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { Usage } from '../../engine/stream-types.js';
import { errorText, SgError } from '../../errors/index.js';
import type { ChatMessage } from '../chat.js';
import { countTokens } from '../usage.js';
import { envValue, type ProviderOptions, type ResolvedProviderOptions } from './options.js';
import {
  type InvokeOptions,
  type LLMResult,
  ModelProvider,
  type ProviderInit,
  type StreamPart,
  type TraceContext,
} from './provider.js';
import { formatResult, providerResponseError } from './results.js';
import { AttemptSignal, abortedError, retryAfterMs, traceHeaders, withPartial, withRetries } from './retry.js';
import { fixedTemplate, loadChatTemplate, type PromptRenderer } from './tgi-prompt.js';

type TgiDetails = { finish_reason?: unknown; generated_tokens?: unknown; prefill?: unknown };

/**
 * Hugging Face through text-generation-inference's native protocol (llm.md section 3.5): `POST /generate`
 * and `/generate_stream` at `endpointUrl`, over fetch. Usage is exact where TGI's details give it.
 */
export class HuggingFaceProvider extends ModelProvider {
  private readonly opts: ResolvedProviderOptions;
  private readonly endpointUrl: string;
  private render: PromptRenderer = fixedTemplate;

  static envOptions(merged: ProviderOptions): ProviderOptions {
    return { endpointUrl: envValue('HF_ENDPOINT_URL'), apiKey: envValue(merged.apiKeyEnv ?? 'HF_TOKEN') };
  }

  constructor(init: ProviderInit) {
    super(init);
    this.opts = init.options as ResolvedProviderOptions;
    if (this.opts.endpointUrl === undefined) {
      throw new SgError(
        'SG_ERR_PROVIDER_UNAVAILABLE',
        `${this.label}: hosted Hugging Face inference is not supported yet; set endpointUrl or HF_ENDPOINT_URL to a TGI server`,
        { details: { modelUrl: this.label } },
      );
    }
    this.endpointUrl = this.opts.endpointUrl.replace(/\/+$/, '');
  }

  private get label(): string {
    return `${this.scheme}://${this.model}`;
  }

  override async load(): Promise<void> {
    if (this.opts.tokenizerPath !== undefined)
      this.render = await loadChatTemplate(this.opts.tokenizerPath, this.label);
  }

  override async invoke(messages: ChatMessage[], config: object = {}, options: InvokeOptions = {}): Promise<unknown> {
    const inputs = this.render(messages);
    const parameters = { ...tgiParameters({ ...this.defaultConfig, ...config }), decoder_input_details: true };
    const json = await withRetries(this.label, this.opts, options.signal, async () => {
      const attempt = new AttemptSignal(options.signal, this.opts.timeoutMs);
      try {
        const res = await this.post('/generate', { inputs, parameters }, attempt, options);
        try {
          return JSON.parse(await res.text()) as unknown;
        } catch (err) {
          throw providerResponseError(this.label, err);
        }
      } catch (err) {
        throw this.attemptError(err, attempt, options.signal);
      } finally {
        attempt.dispose();
      }
    }).catch((err: unknown) => {
      throw withPartial(err, { answer: '', usage: tgiUsage(undefined, undefined, inputs, '') });
    });
    if (options.responseFormat === 'full') return json;
    const item = (Array.isArray(json) ? json[0] : json) as { generated_text?: unknown; details?: TgiDetails } | null;
    if (typeof item?.generated_text !== 'string')
      throw providerResponseError(this.label, 'no generated_text in the answer');
    const answer = item.generated_text;
    const d = item.details;
    const prefill = Array.isArray(d?.prefill) && d.prefill.length > 0 ? d.prefill.length : undefined;
    return formatResult(
      { answer, usage: tgiUsage(prefill, d?.generated_tokens, inputs, answer) },
      options.responseFormat,
    );
  }

  override async *stream(
    messages: ChatMessage[],
    config: object = {},
    options: { signal?: AbortSignal; trace?: TraceContext } = {},
  ): AsyncGenerator<StreamPart, void, undefined> {
    const inputs = this.render(messages);
    const parameters = tgiParameters({ ...this.defaultConfig, ...config });
    let attempt: AttemptSignal | undefined;
    const res = await withRetries(this.label, this.opts, options.signal, async () => {
      attempt?.dispose();
      attempt = new AttemptSignal(options.signal, this.opts.timeoutMs);
      try {
        return await this.post('/generate_stream', { inputs, parameters }, attempt, options);
      } catch (err) {
        throw this.attemptError(err, attempt, options.signal);
      }
    }).catch((err: unknown) => {
      attempt?.dispose();
      throw withPartial(err, { answer: '', usage: tgiUsage(undefined, undefined, inputs, '') });
    });
    const a = attempt!;
    let answer = '';
    let final: { details: TgiDetails } | undefined;
    const partial = (): LLMResult => ({ answer, usage: tgiUsage(undefined, undefined, inputs, answer) });
    try {
      for await (const ev of sseEvents(res, this.label)) {
        a.restart(this.opts.streamIdleTimeoutMs);
        if (typeof ev.error === 'string') throw providerResponseError(this.label, `the server reported: ${ev.error}`);
        const token = ev.token as { text?: unknown; special?: unknown } | undefined;
        if (token !== undefined && token.special !== true && typeof token.text === 'string' && token.text !== '') {
          answer += token.text;
          yield { type: 'delta', text: token.text };
        }
        // TGI's last event carries the whole text (and details, unless the server sends none)
        if (ev.generated_text !== null && ev.generated_text !== undefined) {
          final = { details: (ev.details ?? {}) as TgiDetails };
        } else if (ev.details !== null && ev.details !== undefined) final = { details: ev.details as TgiDetails };
      }
      if (final === undefined) throw providerResponseError(this.label, 'the stream ended before its final event');
    } catch (err) {
      if (options.signal?.aborted) throw abortedError(this.label, options.signal, partial());
      const e = this.attemptError(err, a, options.signal);
      e.details.partial = partial();
      throw e;
    } finally {
      a.dispose();
    }
    const fr = final.details.finish_reason;
    yield {
      type: 'done',
      answer,
      usage: tgiUsage(undefined, final.details.generated_tokens, inputs, answer),
      finishReason:
        fr === 'length' ? 'length' : fr === 'eos_token' || fr === 'stop_sequence' ? 'stop' : String(fr ?? 'stop'),
    };
  }

  private async post(
    path: string,
    body: unknown,
    attempt: AttemptSignal,
    options: { trace?: TraceContext },
  ): Promise<Response> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      ...traceHeaders(this.opts.headers, options.trace),
    };
    if (this.opts.apiKey !== undefined) headers.authorization = `Bearer ${this.opts.apiKey}`;
    const res = await fetch(`${this.endpointUrl}${path}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      signal: attempt.signal,
    });
    if (res.ok) return res;
    const text = await res.text().catch(() => '');
    let message = text;
    try {
      const j = JSON.parse(text) as { error?: unknown; message?: unknown };
      message = String(j.error ?? j.message ?? text);
    } catch {
      // not JSON: the text itself
    }
    throw new SgError('SG_ERR_PROVIDER_HTTP', `${this.label} answered HTTP ${res.status}: ${message.slice(0, 200)}`, {
      details: {
        status: res.status,
        providerMessage: message.slice(0, 500),
        modelUrl: this.label,
        retryAfterMs: retryAfterMs(res.headers),
      },
    });
  }

  private attemptError(err: unknown, attempt: AttemptSignal, signal: AbortSignal | undefined): SgError {
    if (signal?.aborted) return abortedError(this.label, signal);
    if (attempt.timedOut) {
      return new SgError('SG_ERR_PROVIDER_TIMEOUT', `${this.label}: no answer within the time limit`, {
        details: { modelUrl: this.label, timeoutMs: this.opts.timeoutMs },
      });
    }
    if (err instanceof SgError) return err;
    // fetch rejects with a TypeError for refused, reset and unresolvable connections
    if (err instanceof TypeError) {
      return new SgError(
        'SG_ERR_PROVIDER_UNREACHABLE',
        `${this.label}: cannot reach ${this.endpointUrl}: ${errorText(err.cause ?? err)}`,
        {
          details: { modelUrl: this.label, endpointUrl: this.endpointUrl },
          cause: err,
        },
      );
    }
    return providerResponseError(this.label, err);
  }
}

/** OpenAI's names to TGI's: max_tokens → max_new_tokens, a string stop → [stop]; always details, no full text. */
function tgiParameters(config: Record<string, unknown>): Record<string, unknown> {
  const { max_tokens, stop, ...rest } = config;
  const out: Record<string, unknown> = { ...rest };
  if (max_tokens !== undefined) out.max_new_tokens = max_tokens;
  if (stop !== undefined) out.stop = typeof stop === 'string' ? [stop] : stop;
  out.return_full_text = false;
  out.details = true;
  return out;
}

/** Exactly prompt, completion and total; `estimated` when either count was made locally. */
function tgiUsage(prefill: number | undefined, generated: unknown, inputs: string, answer: string): Usage {
  const completionExact = Number.isInteger(generated);
  const prompt = prefill ?? countTokens(inputs);
  const completion = completionExact ? (generated as number) : countTokens(answer);
  const usage: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  if (prefill === undefined || !completionExact) usage.estimated = true;
  return usage;
}

/** The JSON events of an SSE response body. */
async function* sseEvents(res: Response, label: string): AsyncGenerator<Record<string, unknown>> {
  if (res.body === null) return;
  const queue: string[] = [];
  const parser = createParser({ onEvent: (e: EventSourceMessage) => queue.push(e.data) });
  const decoder = new TextDecoder();
  for await (const bytes of res.body as unknown as AsyncIterable<Uint8Array>) {
    parser.feed(decoder.decode(bytes, { stream: true }));
    while (queue.length > 0) {
      const data = queue.shift()!;
      let ev: unknown;
      try {
        ev = JSON.parse(data);
      } catch (err) {
        throw providerResponseError(label, err);
      }
      if (ev !== null && typeof ev === 'object') yield ev as Record<string, unknown>;
    }
  }
}
