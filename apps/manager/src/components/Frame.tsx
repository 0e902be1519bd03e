import { IonButtons, IonContent, IonHeader, IonMenuButton, IonTitle, IonToolbar } from "@ionic/react";
import type { ReactNode } from "react";

export default function Frame({ title, children, actions }: { title: string; children: ReactNode; actions?: ReactNode }) {
  return (
    <>
      <IonHeader>
        <IonToolbar color="primary">
          <IonButtons slot="start">
            <IonMenuButton />
          </IonButtons>
          <IonTitle data-testid="page-title">{title}</IonTitle>
          {actions && <IonButtons slot="end">{actions}</IonButtons>}
        </IonToolbar>
      </IonHeader>
      <IonContent className="ion-padding">{children}</IonContent>
    </>
  );
}

export function Pager({ pager }: { pager: { page: number; hasNext: boolean; hasPrevious: boolean; next: () => void; previous: () => void; loading: boolean } }) {
  return (
    <div className="pager">
      <button type="button" disabled={!pager.hasPrevious || pager.loading} onClick={pager.previous} data-testid="page-previous">
        ‹
      </button>
      <span data-testid="page-number">{pager.page}</span>
      <button type="button" disabled={!pager.hasNext || pager.loading} onClick={pager.next} data-testid="page-next">
        ›
      </button>
    </div>
  );
}

/** A button for an admin-only action: shown to support managers disabled, with the reason. */
export function AdminButton({ isAdmin, label, onClick, testid, title }: { isAdmin: boolean; label: string; onClick: () => void; testid: string; title: string }) {
  return (
    <button type="button" onClick={onClick} data-testid={testid} className={isAdmin ? "" : "needs-admin"} title={isAdmin ? undefined : title}>
      {label}
    </button>
  );
}
