import { lrwVitestConfig } from '@lrw/config/vitest';

export default lrwVitestConfig({ test: { include: ['src/**/*.test.mjs'] } });
