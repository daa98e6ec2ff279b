/** Small DOM helpers: elements by ID (a missing one is a bug in the page), and elements built from text only (never HTML). */

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`The page has no #${id}.`);
  return found as T;
}

/** An element with attributes and text or element children; text is set as text, never parsed. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/** Show one message in a live region, styled as an error or not. */
export function say(target: HTMLElement, text: string, kind: 'error' | 'ok' | 'info' = 'info'): void {
  target.textContent = text;
  target.className = kind === 'info' ? '' : kind;
}

/** The value of the checked radio of a group. */
export function checkedValue(name: string): string | undefined {
  return document.querySelector<HTMLInputElement>(`input[name="${name}"]:checked`)?.value;
}
