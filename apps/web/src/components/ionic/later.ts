/**
 * Ionic components the dashboard's first screen does not show (forms, pull to refresh, segments, the
 * side menu): wrapped here, apart from @ionic/react, so that their code leaves the first chunks and
 * comes with the page that uses them (vite.config.ts puts it in a chunk of its own). Same components,
 * same props, same types as @ionic/react's.
 */
import type * as Ionic from "@ionic/react";
import { defineCustomElement as defineInput } from "@ionic/core/components/ion-input.js";
import { defineCustomElement as defineMenu } from "@ionic/core/components/ion-menu.js";
import { defineCustomElement as defineMenuToggle } from "@ionic/core/components/ion-menu-toggle.js";
import { defineCustomElement as defineRange } from "@ionic/core/components/ion-range.js";
import { defineCustomElement as defineRefresher } from "@ionic/core/components/ion-refresher.js";
import { defineCustomElement as defineRefresherContent } from "@ionic/core/components/ion-refresher-content.js";
import { defineCustomElement as defineSegment } from "@ionic/core/components/ion-segment.js";
import { defineCustomElement as defineSegmentButton } from "@ionic/core/components/ion-segment-button.js";
import { defineCustomElement as defineTextarea } from "@ionic/core/components/ion-textarea.js";
import { defineCustomElement as defineToggle } from "@ionic/core/components/ion-toggle.js";
import { createReactComponent } from "./createReactComponent";

export const IonInput = createReactComponent("ion-input", defineInput) as typeof Ionic.IonInput;
export const IonRange = createReactComponent("ion-range", defineRange) as typeof Ionic.IonRange;
export const IonRefresher = createReactComponent("ion-refresher", defineRefresher) as typeof Ionic.IonRefresher;
export const IonRefresherContent = createReactComponent(
  "ion-refresher-content",
  defineRefresherContent,
) as typeof Ionic.IonRefresherContent;
export const IonTextarea = createReactComponent("ion-textarea", defineTextarea) as typeof Ionic.IonTextarea;
export const IonToggle = createReactComponent("ion-toggle", defineToggle) as typeof Ionic.IonToggle;
export const IonMenu = createReactComponent("ion-menu", defineMenu) as typeof Ionic.IonMenu;
export const IonMenuToggle = createReactComponent("ion-menu-toggle", defineMenuToggle) as typeof Ionic.IonMenuToggle;
export const IonSegment = createReactComponent("ion-segment", defineSegment) as typeof Ionic.IonSegment;
export const IonSegmentButton = createReactComponent("ion-segment-button", defineSegmentButton) as typeof Ionic.IonSegmentButton;
