/**
 * A Vega-Lite spec to a self-contained SVG document in Node, with no browser and no canvas:
 * Vega's headless view renders to an SVG string (text widths are estimated, which is fine for
 * labels of a chart).
 */
import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
