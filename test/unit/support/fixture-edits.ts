/**
 * A fixture's text with edits made in order, each `[from, to]` at the first place `from` stands, `to` taken as it
 * is (given to `replace` as a function, so `$&`, `$1` or `$$` in it are not read as patterns). Throws when `from`
 * is not in the text, so that a fixture that changed fails the test that edits it instead of leaving the edit
 * silently undone.
 */
export function edited(text: string, edits: readonly (readonly [from: string, to: string])[]): string {
  return edits.reduce((out, [from, to]) => {
    if (!out.includes(from)) throw new Error(`the text to edit has no ${JSON.stringify(from)}`);
    return out.replace(from, () => to);
  }, text);
}
