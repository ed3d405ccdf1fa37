import { lrwVitestConfig } from './vitest.base.mjs';

export default lrwVitestConfig({ test: { include: ['*.test.mjs'] } });
