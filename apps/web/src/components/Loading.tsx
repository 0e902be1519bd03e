import { IonSpinner } from "@ionic/react";

export default function Loading({ label }: { label?: string }) {
  return (
    <div className="loading" role="status">
      <IonSpinner />
      {label && <span>{label}</span>}
    </div>
  );
}
