import { LLModel } from './llm/llmodel.js';
import { Model } from './models/model.js';
import { ModelRunnerStep } from './models/model-runner-step.js';
import { registerBuiltin } from './registry/registry.js';
import { Batch } from './steps/batch.js';
import { Choice } from './steps/choice.js';
import { Collector } from './steps/collector.js';
import { Filter } from './steps/filter.js';
import { FlatMap } from './steps/flat-map.js';
import { MapStep } from './steps/map-step.js';

// The built-in names of graph.md section 12, registered from the start and never replaceable.
for (const [name, target] of Object.entries({
  MapStep,
  Filter,
  FlatMap,
  Choice,
  Batch,
  Collector,
  ModelRunnerStep,
  Model,
  LLModel,
}))
  registerBuiltin(name, target);
