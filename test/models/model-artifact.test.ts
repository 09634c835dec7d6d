import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { Model, ModelArtifact } from '../../src/index.js';
import { rejectsSg, runnerGraph, serve, tempDir, throwsSg } from './helpers.js';

class Echo extends Model {
  override predict(x: unknown) {
    return x;
  }
}

describe('ModelArtifact (model-runner.md section 1)', () => {
  test('fields and defaults; the instance is frozen', () => {
    const a = new ModelArtifact({ key: 'churn-v2' });
    expect(a).toMatchObject({
      key: 'churn-v2',
      description: '',
      modelFile: undefined,
      modelUrl: undefined,
      defaultConfig: {},
      providerOptions: {},
      inputs: undefined,
      outputs: undefined,
      parameters: {},
      labels: {},
    });
    expect(Object.isFrozen(a)).toBe(true);
    const full = new ModelArtifact(
      {
        key: 'm',
        description: 'd',
        modelFile: 'weights/m.bin',
        modelUrl: 'http://models/m',
        inputs: ['a'],
        outputs: ['b'],
        parameters: { lr: 0.1 },
        labels: { team: 'x' },
      },
      { baseDir: '/srv/models' },
    );
    expect(full.modelFile).toBe('/srv/models/weights/m.bin');
    expect(new ModelArtifact({ key: 'abs', modelFile: '/abs/m.bin' }).modelFile).toBe('/abs/m.bin');
    expect(full.toJSON()).toEqual({
      kind: 'model',
      formatVersion: 1,
      key: 'm',
      description: 'd',
      modelFile: '/srv/models/weights/m.bin',
      modelUrl: 'http://models/m',
      inputs: ['a'],
      outputs: ['b'],
      parameters: { lr: 0.1 },
      labels: { team: 'x' },
    });
    expect(ModelArtifact.fromJSON(full.toJSON()).toJSON()).toEqual(full.toJSON());
  });

  test('a bad field is SG_ERR_MODEL_ARTIFACT_INVALID naming the key and the field', () => {
    for (const [init, field] of [
      [{ key: '-starts-with-dash' }, 'key'],
      [{ key: 'x'.repeat(129) }, 'key'],
      [{ key: 'k', inputs: 'a' }, 'inputs'],
      [{ key: 'k', labels: { a: 1 } }, 'labels.a'],
      [{ key: 'k', modelFile: '' }, 'modelFile'],
      [{ key: 'k', colour: 'red' }, 'colour'],
    ] as const) {
      const err = throwsSg(() => new ModelArtifact(init as never), 'SG_ERR_MODEL_ARTIFACT_INVALID');
      expect(err.details.field, JSON.stringify(init)).toBe(field);
      expect(err.message).toContain(field.split('.')[0]);
      if (init.key === 'k') expect(err.message).toContain("'k'");
    }
    throwsSg(() => ModelArtifact.fromJSON({ key: 'k', formatVersion: 2 }), 'SG_ERR_MODEL_ARTIFACT_INVALID');
    throwsSg(() => ModelArtifact.fromJSON({ key: 'k', kind: 'llm-prompt' }), 'SG_ERR_MODEL_ARTIFACT_INVALID');
    throwsSg(() => ModelArtifact.fromJSON([]), 'SG_ERR_MODEL_ARTIFACT_INVALID');
  });

  test('save() and load() in JSON and YAML; modelFile relative to the artifact file, stored absolute', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'a.yaml'), 'kind: model\nkey: from-yaml\nmodelFile: ./w.bin\ninputs: [x]\n');
    const fromYaml = await ModelArtifact.load(join(dir, 'sub', 'a.yaml'));
    // an endpoint given a loaded artifact names its file in its record (monitoring.md section 1)
    const { graph } = runnerGraph((r) =>
      r.addModel({ endpointName: 'm', modelClass: Echo, executionMechanism: 'naive', modelArtifact: fromYaml }),
    );
    const s = serve(graph);
    await s.ready();
    expect((await s.monitoring.getEndpoint('m')).artifact).toEqual({
      kind: 'model',
      key: 'from-yaml',
      modelUrl: null,
      path: join(dir, 'sub', 'a.yaml'),
    });
    expect(fromYaml).toMatchObject({ key: 'from-yaml', modelFile: join(dir, 'sub', 'w.bin'), inputs: ['x'] });
    for (const name of ['b.json', 'c.yaml', 'd.yml']) {
      await fromYaml.save(join(dir, name));
      const text = readFileSync(join(dir, name), 'utf8');
      const json = name.endsWith('.json') ? JSON.parse(text) : parse(text);
      expect(json).toEqual(fromYaml.toJSON());
      expect((await ModelArtifact.load(join(dir, name))).toJSON()).toEqual(fromYaml.toJSON());
    }
  });

  test('a missing file is SG_ERR_ARTIFACT_NOT_FOUND; a bad file or extension SG_ERR_MODEL_ARTIFACT_INVALID', async () => {
    const dir = tempDir();
    await rejectsSg(ModelArtifact.load(join(dir, 'nope.json')), 'SG_ERR_ARTIFACT_NOT_FOUND');
    writeFileSync(join(dir, 'bad.json'), '{ not json');
    await rejectsSg(ModelArtifact.load(join(dir, 'bad.json')), 'SG_ERR_MODEL_ARTIFACT_INVALID');
    writeFileSync(join(dir, 'a.txt'), '{}');
    await rejectsSg(ModelArtifact.load(join(dir, 'a.txt')), 'SG_ERR_MODEL_ARTIFACT_INVALID');
    await rejectsSg(new ModelArtifact({ key: 'k' }).save(join(dir, 'a.txt')), 'SG_ERR_MODEL_ARTIFACT_INVALID');
    writeFileSync(join(dir, 'nokey.yaml'), 'kind: model\n');
    await rejectsSg(ModelArtifact.load(join(dir, 'nokey.yaml')), 'SG_ERR_MODEL_ARTIFACT_INVALID');
  });
});
