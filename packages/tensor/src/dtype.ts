/**
 * Element types. float32 and int32 compute everywhere; float16 and bfloat16 are declared so that
 * storage formats, byte sizes and `UnsupportedOpError`s already have a name for them (a backend
 * that computes in half precision registers kernels for them without changing this union).
 */
export type DType = 'float32' | 'int32' | 'float16' | 'bfloat16';

/** Every dtype name, for validation and error messages. */
export const DTYPES: readonly DType[] = ['float32', 'int32', 'float16', 'bfloat16'];

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<DType, number>> = {
  float32: 4,
  int32: 4,
  float16: 2,
  bfloat16: 2,
};

/** True for dtypes whose values carry gradients. */
export function isFloatDType(dtype: DType): boolean {
  return dtype !== 'int32';
}

/** Throws a clear error when `value` is not a dtype name. */
export function checkDType(value: unknown, where: string): DType {
  if (typeof value !== 'string' || !DTYPES.includes(value as DType)) {
    throw new TypeError(
      `${where}: unknown dtype ${JSON.stringify(value)}; use one of ${DTYPES.join(', ')}`,
    );
  }
  return value as DType;
}
