import { readFile, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse, stringify } from 'yaml';
import { SgError } from '../../errors/index.js';

const FORMATS: Record<string, 'yaml' | 'json'> = { '.yaml': 'yaml', '.yml': 'yaml', '.json': 'json' };

function formatOf(path: string, invalidCode: string): 'yaml' | 'json' {
  const f = FORMATS[extname(path).toLowerCase()];
  if (f === undefined)
    throw new SgError(invalidCode, `artifact file '${path}' must end in .json, .yaml or .yml`, {
      details: { field: 'path' },
    });
  return f;
}

/** Read an artifact file's JSON form; a missing file is SG_ERR_ARTIFACT_NOT_FOUND. */
export async function readArtifactFile(path: string, invalidCode: string): Promise<unknown> {
  const format = formatOf(path, invalidCode);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new SgError(
      'SG_ERR_ARTIFACT_NOT_FOUND',
      `artifact file '${path}' cannot be read: ${(err as Error).message}`,
      {
        details: { path },
        cause: err,
      },
    );
  }
  try {
    return format === 'json' ? JSON.parse(text) : parse(text);
  } catch (err) {
    throw new SgError(
      invalidCode,
      `artifact file '${path}' is not valid ${format.toUpperCase()}: ${(err as Error).message.split('\n')[0]}`,
      {
        details: { path },
        cause: err,
      },
    );
  }
}

/** Write an artifact's JSON form, as JSON or YAML by the file's extension. */
export async function writeArtifactFile(
  path: string,
  json: Record<string, unknown>,
  invalidCode: string,
): Promise<void> {
  const format = formatOf(path, invalidCode);
  await writeFile(path, format === 'json' ? `${JSON.stringify(json, null, 2)}\n` : stringify(json));
}
