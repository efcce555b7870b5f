/** Small DOM helpers shared by the page's modules. */

/**
 * The element with `id`.
 * @throws Error when the page lacks it (index.html and the code disagree)
 */
export const byId = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page element #${id} is missing`);
  return el as T;
};
