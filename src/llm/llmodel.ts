import type { Usage } from '../engine/stream-types.js';
import { errorText, placeError, SgError } from '../errors/index.js';
import { Model } from '../models/model.js';
import type { Artifact, ModelCallContext, ModelOptions } from '../models/types.js';
import { type Enriched, enrich, templatePlaceholders } from './enrich.js';
import { type LLModelParameters, llmParameters } from './llm-parameters.js';
import { isPromptArtifact, type LLMPromptArtifact } from './prompt-artifact.js';
import type { LLMResult, ModelProvider, StreamPart } from './providers/provider.js';
import { createProvider } from './providers/registry.js';
import { checkResult, sumUsage } from './results-check.js';

/** The summary a streamed call returns: what the stream's done payload carries. */
export type LLMStreamSummary = { usage: Usage; finishReason: string };

/**
 * A language model (llm.md section 2): fills its prompt artifact's template from the input, calls its
 * provider, and returns `{answer, usage}`. One shared LLModel serves several proxies, each with its own prompt.
 */
export class LLModel extends Model<unknown, LLMResult> {
  /** the provider named by the model artifact's modelUrl, made at load() */
  provider: ModelProvider | undefined;
  private readonly params: LLModelParameters;
  /** @internal proxies of a shared model: endpoint name → its artifact (set before load) */
  _proxies: ReadonlyMap<string, Artifact> | undefined;

  constructor(options: ModelOptions) {
    super(options);
    this.params = llmParameters(this.modelParameters, this.name);
  }

  /** @internal An LLModel's outputs are always these (model-runner.md section 1). */
  static readonly _fixedOutputs: readonly string[] = Object.freeze(['answer', 'usage']);

  /** @internal Build-time check of the model parameters (addModel), before any copy exists. */
  static _checkParameters(params: Record<string, unknown>, endpoint: string, step?: string): void {
    llmParameters(params, endpoint, step);
  }

  /** @internal Whether an endpoint with this artifact streams: its merged config over the model's defaults. */
  static _streamsWith(artifact: Artifact | undefined, base: Artifact | undefined): boolean {
    const prompt = isPromptArtifact(artifact) ? artifact : isPromptArtifact(base) ? base : undefined;
    const model = base === undefined ? prompt?.modelArtifact : isPromptArtifact(base) ? base.modelArtifact : base;
    return { ...model?.defaultConfig, ...prompt?.invocationConfig }.stream === true;
  }

  /** Resolve the provider, read prompt files, and check what can be checked before the first call. */
  override async load(): Promise<void> {
    const prompts = this.prompts();
    for (const p of prompts) await p._readPromptFile();
    const ownPredict =
      this.predict !== LLModel.prototype.predict || this.predictAsync !== LLModel.prototype.predictAsync;
    if (this.modelArtifact?.modelUrl === undefined) {
      if (!ownPredict) {
        throw new SgError(
          'SG_ERR_LLM_NO_PROVIDER',
          `endpoint '${this.name}': no provider (the model artifact has no modelUrl) and predict is not overridden`,
          {
            endpoint: this.name,
          },
        );
      }
    } else {
      this.provider = await createProvider({
        modelArtifact: this.modelArtifact,
        prompt: this.invocationArtifact as LLMPromptArtifact | undefined,
        endpoint: this.name,
      });
    }
    for (const [endpoint, artifact] of this.endpoints()) {
      const streams = LLModel._streamsWith(artifact, this.invocationArtifact ?? this.modelArtifact);
      if (streams && this.provider !== undefined && !this.provider.supportsStreaming) {
        throw new SgError(
          'SG_ERR_PROVIDER_CAPABILITY',
          `endpoint '${endpoint}': invocationConfig.stream is true but ${this.modelArtifact?.modelUrl} cannot stream`,
          {
            endpoint,
          },
        );
      }
      if (isPromptArtifact(artifact)) {
        const used = templatePlaceholders(artifact);
        for (const name of Object.keys(artifact.promptLegend)) {
          if (!used.includes(name))
            this.logger.warn(
              `endpoint '${endpoint}': promptLegend entry '${name}' is not a placeholder of the template`,
            );
        }
      }
    }
  }

  override async close(): Promise<void> {
    await this.provider?.close();
  }

  /** The prompt of a call: a proxy's own, else this model's (llm.md section 2, step 1). */
  promptFor(ctx: Pick<ModelCallContext, 'endpointName' | 'artifact'>): LLMPromptArtifact | undefined {
    const mapped = this._proxies?.get(ctx.endpointName) ?? ctx.artifact;
    if (isPromptArtifact(mapped)) return mapped;
    return isPromptArtifact(this.invocationArtifact) ? this.invocationArtifact : undefined;
  }

  /** Messages and generation settings for one input (llm.md section 2.2); may be overridden, may be async. */
  enrichPrompt(input: unknown, endpointName: string, artifact?: LLMPromptArtifact): Enriched | Promise<Enriched> {
    return enrich(input, artifact, {
      endpoint: endpointName,
      onMissing: this.params.onMissingPlaceholder,
      requestConfig: this.params.requestConfig,
      defaultConfig: this.modelArtifact?.defaultConfig ?? {},
      inputPath: this.inputPath?.text,
      warn: (m) => this.logger.warn(m),
    });
  }

  override predict(input: unknown, ctx: ModelCallContext): Promise<LLMResult> {
    return this.run(input, ctx, 'invoke');
  }

  override predictAsync(input: unknown, ctx: ModelCallContext): Promise<LLMResult> {
    return this.run(input, ctx, 'invokeAsync');
  }

  override async *predictStream(input: unknown, ctx: ModelCallContext): AsyncGenerator<string, LLMStreamSummary> {
    const provider = this.needProvider(ctx);
    const { messages, invocationConfig } = await this.enrichPrompt(input, ctx.endpointName, this.promptFor(ctx));
    let done: Extract<StreamPart, { type: 'done' }> | undefined;
    try {
      for await (const part of provider.stream(messages, invocationConfig, { signal: ctx.signal, trace: ctx.trace })) {
        if (part.type === 'delta') {
          if (part.text !== '') yield part.text;
        } else done = part;
      }
    } catch (err) {
      throw this.failed(err, ctx);
    }
    if (done === undefined)
      throw placeError(
        new SgError(
          'SG_ERR_PROVIDER_RESPONSE',
          `endpoint '${ctx.endpointName}': the provider's stream ended without its done part`,
        ),
        ctx.step,
        ctx.endpointName,
      );
    const usage = checkResult({ answer: done.answer, usage: done.usage }, ctx.endpointName).usage;
    ctx.recordUsage(usage);
    return { usage, finishReason: done.finishReason };
  }

  /** A collected stream equals the non-streamed result: `{answer, usage}` (llm.md section 2.4). */
  collect(chunks: unknown[], summary: unknown): LLMResult {
    return { answer: chunks.join(''), usage: (summary as LLMStreamSummary | undefined)?.usage as Usage };
  }

  private async run(input: unknown, ctx: ModelCallContext, method: 'invoke' | 'invokeAsync'): Promise<LLMResult> {
    if (ctx.batch === undefined) {
      const r = await this.one(input, ctx, method);
      ctx.recordUsage(r.usage);
      return r;
    }
    // a batch: each item on its own, at most maxBatchConcurrency at once, failures in place
    const items = input as unknown[];
    const out: (LLMResult | SgError)[] = new Array(items.length);
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const i = next++;
        try {
          out[i] = await this.one(items[i], ctx, method);
        } catch (err) {
          out[i] = err instanceof SgError ? err : new SgError('SG_ERR_MODEL_RUNNER', errorText(err), { cause: err });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.params.maxBatchConcurrency, items.length) }, worker));
    const usage = sumUsage(out.filter((r): r is LLMResult => !(r instanceof SgError)).map((r) => r.usage));
    if (usage !== undefined) ctx.recordUsage(usage);
    return out as unknown as LLMResult;
  }

  private async one(input: unknown, ctx: ModelCallContext, method: 'invoke' | 'invokeAsync'): Promise<LLMResult> {
    const provider = this.needProvider(ctx);
    const { messages, invocationConfig } = await this.enrichPrompt(input, ctx.endpointName, this.promptFor(ctx));
    let raw: unknown;
    try {
      raw = await provider[method](messages, invocationConfig, {
        signal: ctx.signal,
        trace: ctx.trace,
        responseFormat: 'usage',
      });
    } catch (err) {
      throw this.failed(err, ctx);
    }
    return checkResult(raw, ctx.endpointName, messages);
  }

  /** A provider failure, placed; an abort's partial usage is reported first (monitoring records what was spent). */
  private failed(err: unknown, ctx: ModelCallContext): unknown {
    if (err instanceof SgError) {
      const partial = err.details.partial as { usage?: Usage } | undefined;
      if (partial?.usage !== undefined) ctx.recordUsage(partial.usage);
      return placeError(err, ctx.step, ctx.endpointName);
    }
    return err;
  }

  private needProvider(ctx: ModelCallContext): ModelProvider {
    if (this.provider !== undefined) return this.provider;
    throw new SgError(
      'SG_ERR_LLM_NO_PROVIDER',
      `endpoint '${ctx.endpointName}': no provider (the model artifact has no modelUrl)`,
      {
        step: ctx.step,
        endpoint: ctx.endpointName,
      },
    );
  }

  private prompts(): LLMPromptArtifact[] {
    return [...this.endpoints().values()].filter(isPromptArtifact);
  }

  /** endpoint name → artifact: this model's own and its proxies' */
  private endpoints(): Map<string, Artifact | undefined> {
    const m = new Map<string, Artifact | undefined>([[this.name, this.invocationArtifact ?? this.modelArtifact]]);
    for (const [k, v] of this._proxies ?? []) m.set(k, v);
    return m;
  }
}
