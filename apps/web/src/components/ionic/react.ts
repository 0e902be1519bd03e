/**
 * `@ionic/react` as the app sees it: vite.config.ts resolves every `import ... from "@ionic/react"`
 * of the app to this module (this module's own import reaches the package). Everything is the
 * package's own, but for the overlays, the checkbox and the radios: @ionic/react's wrappers define
 * their elements when the package loads, which put ~165 KB of Ionic's code (of 445) in the first
 * chunk for components the dashboard never shows before a tap. Here they come from ./deferred.tsx.
 */
export * from "@ionic/react";
export {
  IonCheckbox,
  IonModal,
  IonPopover,
  IonRadio,
  IonRadioGroup,
  useIonAlert,
  useIonToast,
} from "./deferred";
