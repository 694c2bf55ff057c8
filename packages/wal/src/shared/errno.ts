/**
 * Reading the `code` of a thrown value without a cast at every call site.
 * An errno code (`ENOENT`, `EIO`...) comes from Node's file system; an
 * Episteme code (`WAL_IO`...) is matched with `isEpistemeError` instead.
 */

const ERRNO = /^E[A-Z0-9]+$/;

/**
 * The errno code of an error, looking through one `cause`: a typed error of
 * the journal (an IoError) wraps the errno error it was made from.
 */
export function errnoOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null | undefined;
  if (typeof e?.code === 'string' && ERRNO.test(e.code)) return e.code;
  const c = e?.cause?.code;
  return typeof c === 'string' && ERRNO.test(c) ? c : undefined;
}

/** Whether the errno code of `err` (see errnoOf) is one of `codes`. */
export function hasErrno(err: unknown, ...codes: string[]): boolean {
  const errno = errnoOf(err);
  return errno !== undefined && codes.includes(errno);
}

/**
 * The `code` string of an error, whatever kind (errno or Episteme), for a
 * message that names it; undefined when it has none.
 */
export function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
