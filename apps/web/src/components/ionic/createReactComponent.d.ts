export declare function createReactComponent(tagName: string, defineCustomElement: () => void): unknown;
export declare function createInlineOverlayComponent(
  tagName: string,
  defineCustomElement: () => void,
  hasDelegateHost?: boolean,
): unknown;
