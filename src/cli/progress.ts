import type { LoadProgress } from '../server/load-tracker.js';

/**
 * Model-loading progress for `servegraph serve`: one redrawn bar on a terminal, plain lines otherwise (logs,
 * CI), written to stderr so stdout keeps only the serving line.
 */
export function progressDisplay(stream: NodeJS.WriteStream = process.stderr): {
  onProgress: (p: LoadProgress) => void;
  end: () => void;
} {
  const tty = stream.isTTY === true;
  let drawn = false;
  return {
    onProgress: ({ loaded, total, endpoint }) => {
      if (!tty) {
        stream.write(`servegraph: loaded ${endpoint} (${loaded}/${total})\n`);
        return;
      }
      const width = 24;
      const filled = total === 0 ? width : Math.round((loaded / total) * width);
      stream.write(
        `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${loaded}/${total} models loaded (${endpoint})\u001b[K`,
      );
      drawn = true;
    },
    end: () => {
      if (tty && drawn) stream.write('\n');
    },
  };
}
