// The one way a script file becomes text: preflight, prepare-scripts, `:r` includes, the SQL Server
// runner and the lab all read through decodeScript, so no path reads a file differently.
//
// sqlcmd "automatically recognizes both big-endian and little-endian Unicode input files", and
// without a mark uses the current code page (https://learn.microsoft.com/en-us/sql/tools/sqlcmd/sqlcmd-utility,
// option -f). SSMS saves scripts as UTF-16 LE with a mark by default (DOMAIN.md, 2026-11-29).
// A Linux worker has no Windows code page, so a file without a mark is read as UTF-8 (inferred:
// a vendor file in a legacy ANSI code page with non-ASCII text is refused, not guessed).
// Pure: bytes in, text out.

export type ScriptEncoding = 'UTF-8' | 'UTF-8 with BOM' | 'UTF-16 LE' | 'UTF-16 BE';

export interface DecodedScript {
  /** The text without its byte-order mark (the mark is never sent to the server). */
  text: string;
  encoding: ScriptEncoding;
}

/** A script that cannot be read as text; names the file and the encoding it was read as. */
export class ScriptEncodingError extends Error {
  constructor(
    public readonly file: string,
    public readonly encoding: ScriptEncoding,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'ScriptEncodingError';
  }
}

const MARKS: { bytes: number[]; encoding: ScriptEncoding; decoder: 'utf-8' | 'utf-16le' | 'utf-16be' }[] = [
  { bytes: [0xef, 0xbb, 0xbf], encoding: 'UTF-8 with BOM', decoder: 'utf-8' },
  { bytes: [0xff, 0xfe], encoding: 'UTF-16 LE', decoder: 'utf-16le' },
  { bytes: [0xfe, 0xff], encoding: 'UTF-16 BE', decoder: 'utf-16be' },
];

/**
 * Decodes a script file's bytes as sqlcmd reads them: a byte-order mark decides UTF-8, UTF-16 LE
 * or UTF-16 BE and is dropped; without one, UTF-8.
 * @param file name for messages (the script as the operator knows it)
 * @throws ScriptEncodingError when the bytes are not valid in that encoding, or the text holds a
 *   NUL character (a UTF-16 file without its mark reads as UTF-8 full of NULs).
 */
export function decodeScript(bytes: Uint8Array, file: string): DecodedScript {
  const mark = MARKS.find((m) => m.bytes.every((b, i) => bytes[i] === b));
  const encoding = mark?.encoding ?? 'UTF-8';
  const body = bytes.subarray(mark?.bytes.length ?? 0);
  let text: string;
  try {
    // fatal: an undecodable byte is an error, not U+FFFD sent to the server; ignoreBOM keeps a
    // second mark as text (only the first, removed above, is an encoding mark).
    text = new TextDecoder(mark?.decoder ?? 'utf-8', { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    const hint = mark
      ? 'the file is damaged or its byte-order mark is wrong; save it again from the editor'
      : 'without a byte-order mark replup reads UTF-8; save the file as UTF-8 or as Unicode (UTF-16 with a ' +
        'byte-order mark)';
    throw new ScriptEncodingError(file, encoding, `is not valid ${encoding} text: ${hint}`);
  }
  const nul = text.indexOf('\u0000');
  if (nul >= 0) {
    const line = text.slice(0, nul).split('\n').length;
    const hint = mark
      ? 'a script cannot contain NUL characters; remove them'
      : 'it looks like UTF-16 saved without a byte-order mark; save it as UTF-8, or as Unicode with a byte-order mark';
    throw new ScriptEncodingError(
      file,
      encoding,
      `read as ${encoding}, line ${line} contains a NUL character: ${hint}`,
    );
  }
  return { text, encoding };
}
