// Benchmark models (bench/executors/run.mjs): a no-op, and ~5 ms of pure computation per call.
import { Model } from 'servegraph';
import { burn } from './burn.mjs';

export class NoopModel extends Model {
  predict(input) {
    return input;
  }
}

export class CpuModel extends Model {
  predict(input) {
    return burn(input.iterations);
  }
}
