/**
 * Ionic components the dashboard's first screen does not show (forms, pull to refresh, segments, the
 * side menu, overlays): wrapped here, apart from @ionic/react, so that their code leaves the first
 * chunks and comes with the page that uses them (vite.config.ts puts it in a chunk of its own). Same
 * components, same props, same types as @ionic/react's. The overlays, checkbox and radios are what
 * `@ionic/react` itself hands the app for them, through ./react.ts and ./deferred.tsx.
 */
import type * as Ionic from "@ionic/react";
import { alertController, toastController } from "@ionic/core/components";
import { defineCustomElement as defineAlert } from "@ionic/core/components/ion-alert.js";
import { defineCustomElement as defineCheckbox } from "@ionic/core/components/ion-checkbox.js";
import { defineCustomElement as defineInput } from "@ionic/core/components/ion-input.js";
import { defineCustomElement as defineMenu } from "@ionic/core/components/ion-menu.js";
import { defineCustomElement as defineMenuToggle } from "@ionic/core/components/ion-menu-toggle.js";
import { defineCustomElement as defineModal } from "@ionic/core/components/ion-modal.js";
import { defineCustomElement as definePopover } from "@ionic/core/components/ion-popover.js";
import { defineCustomElement as defineRadio } from "@ionic/core/components/ion-radio.js";
import { defineCustomElement as defineRadioGroup } from "@ionic/core/components/ion-radio-group.js";
import { defineCustomElement as defineRange } from "@ionic/core/components/ion-range.js";
import { defineCustomElement as defineRefresher } from "@ionic/core/components/ion-refresher.js";
import { defineCustomElement as defineRefresherContent } from "@ionic/core/components/ion-refresher-content.js";
import { defineCustomElement as defineSegment } from "@ionic/core/components/ion-segment.js";
import { defineCustomElement as defineSegmentButton } from "@ionic/core/components/ion-segment-button.js";
import { defineCustomElement as defineTextarea } from "@ionic/core/components/ion-textarea.js";
import { defineCustomElement as defineToast } from "@ionic/core/components/ion-toast.js";
import { defineCustomElement as defineToggle } from "@ionic/core/components/ion-toggle.js";
import { createInlineOverlayComponent, createReactComponent } from "./createReactComponent";

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
export const IonCheckbox = createReactComponent("ion-checkbox", defineCheckbox) as typeof Ionic.IonCheckbox;
export const IonRadio = createReactComponent("ion-radio", defineRadio) as typeof Ionic.IonRadio;
export const IonRadioGroup = createReactComponent("ion-radio-group", defineRadioGroup) as typeof Ionic.IonRadioGroup;
export const IonModal = createInlineOverlayComponent("ion-modal", defineModal, true) as typeof Ionic.IonModal;
export const IonPopover = createInlineOverlayComponent("ion-popover", definePopover) as typeof Ionic.IonPopover;

// The elements the alert and toast controllers create (useIonAlert, useIonToast in ./deferred.tsx).
defineAlert();
defineToast();
export const controllers = { Alert: alertController, Toast: toastController };
