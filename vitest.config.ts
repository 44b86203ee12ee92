import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The second builds the console when console/ changed since dist/console was built (see the file).
    globalSetup: ['test/support/global-setup.ts', 'test/support/console-build.ts'],
    setupFiles: ['test/support/drop-databases-after-file.ts'],
    pool: 'forks',
    // One file more than there are cores: most files spend their time waiting (on PostgreSQL, on spawned
    // Herald processes, on loopback receivers), so vitest's default (a core fewer: one worker on two cores)
    // ran the suite serially. On this 2-core machine: 860 s with one worker, 479 s with three, all passing.
    maxWorkers: availableParallelism() + 1,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default'],
  },
});
