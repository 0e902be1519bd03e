export declare function createReactComponent(tagName: string, defineCustomElement: () => void): unknown;
