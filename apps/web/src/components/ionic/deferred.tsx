/**
 * What the app gets from `@ionic/react` for the overlays (modal, popover, alert, toast), the checkbox
 * and the radios (see ./react.ts): the same components and hooks, whose Ionic code comes with
 * ./later.ts, a chunk fetched after the first screen (HomePage calls `preloadLater`) or on first use.
 * An overlay mounts nothing until it is first opened; the controls render once the chunk is in.
 */
import type * as Ionic from "@ionic/react";
import {
  Suspense,
  createElement,
  forwardRef,
  lazy,
  useCallback,
  useEffect,
  useRef,
  useState,
  type ComponentType,
} from "react";

type Later = typeof import("./later");

let later: Later | undefined;
let loading: Promise<Later> | undefined;

/** Fetches ./later.ts once; afterwards the wrappers render its components without suspending. */
export function preloadLater(): Promise<Later> {
  loading ??= import("./later").then((module) => (later = module));
  return loading;
}

type AnyProps = Record<string, unknown>;

function deferred<T>(pick: (module: Later) => unknown, name: string, wanted?: (props: AnyProps) => boolean): T {
  const Lazy = lazy(() => preloadLater().then((module) => ({ default: pick(module) as ComponentType<AnyProps> })));
  const Deferred = forwardRef<unknown, AnyProps>((props, ref) => {
    // Decided once: switching from the lazy element to the loaded one would mount the component anew.
    const [loaded] = useState(() => later !== undefined);
    const [used, setUsed] = useState(false);
    const want = wanted === undefined || wanted(props);
    useEffect(() => {
      if (want) setUsed(true);
    }, [want]);
    if (!want && !used) return null;
    if (loaded && later) return createElement(pick(later) as ComponentType<AnyProps>, { ...props, ref });
    return createElement(Suspense, { fallback: null }, createElement(Lazy, { ...props, ref }));
  });
  Deferred.displayName = name;
  return Deferred as T;
}

// An overlay that has never been opened needs none of its code; once used it stays mounted, so that
// it can close with its animation and open again at once.
const opened = (props: AnyProps) => Boolean(props.isOpen) || props.trigger !== undefined || Boolean(props.keepContentsMounted);

export const IonModal = deferred<typeof Ionic.IonModal>((m) => m.IonModal, "IonModal", opened);
export const IonPopover = deferred<typeof Ionic.IonPopover>((m) => m.IonPopover, "IonPopover", opened);
export const IonCheckbox = deferred<typeof Ionic.IonCheckbox>((m) => m.IonCheckbox, "IonCheckbox");
export const IonRadio = deferred<typeof Ionic.IonRadio>((m) => m.IonRadio, "IonRadio");
export const IonRadioGroup = deferred<typeof Ionic.IonRadioGroup>((m) => m.IonRadioGroup, "IonRadioGroup");

type OverlayOptions = {
  onDidDismiss?: (event: CustomEvent) => void;
  onWillDismiss?: (event: CustomEvent) => void;
  onDidPresent?: (event: CustomEvent) => void;
  onWillPresent?: (event: CustomEvent) => void;
  [option: string]: unknown;
};
type Overlay = HTMLElement & { present(): Promise<void>; dismiss(data?: unknown, role?: string): Promise<boolean> };

/** @ionic/react's useController (the hooks' core), with the controller fetched on first present. */
function useController(name: keyof Later["controllers"]) {
  const overlay = useRef<Overlay | "creating">();
  const present = useCallback(
    async (options: OverlayOptions) => {
      if (overlay.current) return; // one at a time, as @ionic/react's hooks do
      overlay.current = "creating";
      const { onDidDismiss, onWillDismiss, onDidPresent, onWillPresent, ...rest } = options;
      let created: Overlay;
      try {
        const { controllers } = await preloadLater();
        created = (await controllers[name].create(rest as never)) as unknown as Overlay;
      } catch (error) {
        overlay.current = undefined;
        throw error;
      }
      overlay.current = created;
      const on = (event: string, handler?: (e: CustomEvent) => void) =>
        created.addEventListener(`ion${name}${event}`, (e) => handler?.(e as CustomEvent));
      on("DidDismiss", (e) => {
        onDidDismiss?.(e);
        overlay.current = undefined;
      });
      on("DidPresent", onDidPresent);
      on("WillDismiss", onWillDismiss);
      on("WillPresent", onWillPresent);
      void created.present();
    },
    [name],
  );
  const dismiss = useCallback(async () => {
    const current = overlay.current;
    if (current && current !== "creating") await current.dismiss();
    overlay.current = undefined;
  }, []);
  return { present, dismiss };
}

export const useIonAlert = (() => {
  const controller = useController("Alert");
  const { present: show } = controller;
  const present = useCallback(
    (messageOrOptions: string | OverlayOptions, buttons?: unknown[]) =>
      typeof messageOrOptions === "string"
        ? show({ message: messageOrOptions, buttons: buttons ?? [{ text: "Ok" }] })
        : show(messageOrOptions),
    [show],
  );
  return [present, controller.dismiss];
}) as unknown as typeof Ionic.useIonAlert;

export const useIonToast = (() => {
  const controller = useController("Toast");
  const { present: show } = controller;
  const present = useCallback(
    (messageOrOptions: string | OverlayOptions, duration?: number) =>
      typeof messageOrOptions === "string" ? show({ message: messageOrOptions, duration }) : show(messageOrOptions),
    [show],
  );
  return [present, controller.dismiss];
}) as unknown as typeof Ionic.useIonToast;
