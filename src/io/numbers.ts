// Numbers parsed straight from bytes, so a value column never costs a JS string per row.

const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => 10 ** k); // exact in float64 up to 1e22

/**
 * The decimal number in bytes [start, end), surrounding spaces and tabs allowed: `42`,
 * `-3.5`, `.5`, `1e3`, `+2.5E-4`. Returns NaN for anything else (empty, `NaN`, `inf`,
 * `0x10`, `1,5`), so the caller can report it.
 */
export function parseDecimal(bytes: Uint8Array, start: number, end: number): number {
  while (start < end && (bytes[start] === 0x20 || bytes[start] === 0x09)) start++;
  while (end > start && (bytes[end - 1] === 0x20 || bytes[end - 1] === 0x09)) end--;
  let i = start;
  let negative = false;
  if (i < end && (bytes[i] === 0x2d || bytes[i] === 0x2b)) negative = bytes[i++] === 0x2d;
  let mantissa = 0;
  let digits = 0; // significant digits in mantissa
  let scale = 0; // power of ten the mantissa is off by
  let seen = 0;
  let dropped = false; // digits past the 15th, which a float64 mantissa cannot hold exactly
  for (; i < end; i++) {
    const d = bytes[i] - 0x30;
    if (d < 0 || d > 9) break;
    seen++;
    if (digits < 15) {
      mantissa = mantissa * 10 + d;
      if (mantissa !== 0) digits++;
    } else {
      scale++;
      dropped = true;
    }
  }
  if (i < end && bytes[i] === 0x2e) {
    for (i++; i < end; i++) {
      const d = bytes[i] - 0x30;
      if (d < 0 || d > 9) break;
      seen++;
      if (digits < 15) {
        mantissa = mantissa * 10 + d;
        if (mantissa !== 0) digits++;
        scale--;
      } else dropped = true;
    }
  }
  if (seen === 0) return NaN;
  if (i < end && (bytes[i] | 0x20) === 0x65) {
    i++;
    let exponentNegative = false;
    if (i < end && (bytes[i] === 0x2d || bytes[i] === 0x2b)) exponentNegative = bytes[i++] === 0x2d;
    const exponentStart = i;
    let exponent = 0;
    for (; i < end; i++) {
      const d = bytes[i] - 0x30;
      if (d < 0 || d > 9) break;
      if (exponent < 100000) exponent = exponent * 10 + d;
    }
    if (i === exponentStart) return NaN;
    scale += exponentNegative ? -exponent : exponent;
  }
  if (i !== end) return NaN;
  let value: number;
  if (!dropped && scale === 0) value = mantissa;
  // One correctly rounded product or quotient of two exact numbers: as precise as the text.
  else if (!dropped && scale > 0 && scale <= 22) value = mantissa * POWERS_OF_TEN[scale];
  else if (!dropped && scale < 0 && scale >= -22) value = mantissa / POWERS_OF_TEN[-scale];
  else {
    // Long mantissas and huge exponents are rare: let the engine's parser round them.
    let text = "";
    for (let k = start; k < end; k++) text += String.fromCharCode(bytes[k]);
    value = Number(text);
    return Number.isFinite(value) ? value : NaN;
  }
  return negative ? -value : value;
}
