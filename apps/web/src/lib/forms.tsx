// The pieces every form of the app is made of (login, registration, password reset and change,
// broker credentials, strategy editor), so that they look and behave alike: outlined floating
// inputs, one error line read out to screen readers, a submit button that spins while busy.

import { IonButton, IonNote, IonSpinner } from "@ionic/react";
import { useCallback, useState, type ComponentProps, type ReactNode } from "react";
import { IonInput } from "../components/ionic/later";
import { useI18n } from "../i18n/I18nProvider";
import { describeError } from "../session/errors";

/** Checked here before a round trip, with the server's minimum (MIN_PASSWORD_LENGTH in
 * glimpse/runtime/security.py), which has the last word on the rest of the policy. */
export const MIN_PASSWORD = 10;

type FieldProps = Omit<ComponentProps<typeof IonInput>, "onIonInput" | "labelPlacement"> & {
  /** The text as typed. */
  onText: (text: string) => void;
};

/** An outlined input with a floating label: a form's field. */
export function TextField({ onText, ...props }: FieldProps) {
  return (
    <IonInput labelPlacement="floating" fill="outline" {...props} onIonInput={(e) => onText(String(e.detail.value ?? ""))} />
  );
}

/** An input with its label above it: a field in a list row (IonItem) or beside its own button. */
export function StackedField({ onText, ...props }: FieldProps) {
  return <IonInput labelPlacement="stacked" {...props} onIonInput={(e) => onText(String(e.detail.value ?? ""))} />;
}

/** The form's error, announced as an alert; nothing when there is none. */
export function FormError({ error }: { error: string }) {
  if (!error) return null;
  return (
    <IonNote color="danger" role="alert">
      {error}
    </IonNote>
  );
}

/** A button (a form's submit unless `type` says otherwise): disabled, with a spinner in place of its label, while busy. */
export function BusyButton({ busy, children, ...props }: ComponentProps<typeof IonButton> & { busy: boolean }) {
  return (
    <IonButton type="submit" {...props} disabled={busy}>
      {busy ? <IonSpinner name="dots" /> : children}
    </IonButton>
  );
}

/** A form that submits through `onSubmit` (Enter included) instead of reloading the page. */
export function Form({ onSubmit, className = "stack", children }: { onSubmit: () => unknown; className?: string; children: ReactNode }) {
  return (
    <form
      className={className}
      onSubmit={(e) => {
        e.preventDefault();
        void onSubmit();
      }}
    >
      {children}
    </form>
  );
}

/**
 * A form's busy flag and error line, and `run`, which sends one request with them: busy while it
 * runs, the error cleared before and set from what it throws after. `known` names the errors the
 * form words itself (a wrong code, a refused password); the rest read as describeError has them.
 * `setBusy` is for a step that must settle the flag itself before going on (the signal list's check).
 */
export function useSubmit() {
  const { t } = useI18n();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const run = useCallback(
    async (action: () => Promise<unknown>, known?: (e: unknown) => string | null) => {
      setBusy(true);
      setError("");
      try {
        await action();
      } catch (e) {
        setError(known?.(e) ?? describeError(e, t));
      } finally {
        setBusy(false);
      }
    },
    [t],
  );
  return { busy, setBusy, error, setError, run };
}
