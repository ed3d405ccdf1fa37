/** The package name, as published. */
export const packageName = '@lrw/models';
