export { default } from '@lrw/config/vitest';
