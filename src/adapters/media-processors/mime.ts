/** `audio/ogg` from `audio/ogg; codecs=opus`: the parameters never decide how a file is read. */
export function baseMime(mimetype: string): string {
  return (mimetype.split(';')[0] ?? '').trim().toLowerCase();
}

/** The extension of a file name, lower case, without the dot; null when it has none. */
export function fileExtension(fileName: string | null): string | null {
  const match = fileName === null ? null : /\.([a-z0-9]{1,8})$/i.exec(fileName.trim());
  return match?.[1]?.toLowerCase() ?? null;
}
