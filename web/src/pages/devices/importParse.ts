// Recognises what the user pasted for an import: a JSON array of devices or
// CSV with a header row. The server parses and validates it (one bad row
// writes nothing); this only picks the content type and counts rows.
export interface ParsedImport {
  contentType: 'application/json' | 'text/csv';
  body: string;
  rows: number;
}

export function parseImport(text: string): ParsedImport {
  const body = text.trim();
  if (!body) throw new Error('empty');
  if (body.startsWith('[') || body.startsWith('{')) {
    const v = JSON.parse(body) as unknown;
    if (!Array.isArray(v)) throw new Error('JSON must be an array of devices');
    return { contentType: 'application/json', body, rows: v.length };
  }
  const lines = body.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines[0].split(',').map((h) => h.trim());
  if (!header.includes('hostname')) throw new Error('CSV header must name hostname');
  return { contentType: 'text/csv', body: body + '\n', rows: lines.length - 1 };
}
