import DOMPurify from "dompurify";
import { useMemo } from "react";

/**
 * HTML from the server (the terms), sanitised by DOMPurify: HTML only (no SVG or MathML), no
 * scripts, styles, forms, event handlers or javascript: URLs (DOMPurify drops the whitespace
 * and control characters that hide a scheme, as in `jav&#9;ascript:`). The server sanitises
 * the terms when they are saved, too (nh3, api/routes/admin.py); this is the second line.
 */
export function sanitize(html: string): string {
  return DOMPurify.sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select"],
    FORBID_ATTR: ["style"],
  });
}

export default function SafeHtml({ html, className }: { html: string; className?: string }) {
  const clean = useMemo(() => sanitize(html), [html]);
  return <div className={className} dangerouslySetInnerHTML={{ __html: clean }} />;
}
