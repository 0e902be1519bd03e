import { IonButton, IonModal, IonSpinner } from "@ionic/react";
import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "../../api";
import SafeHtml from "../../components/SafeHtml";
import { useI18n } from "../../i18n/I18nProvider";
import { useAccount } from "../../session/AccountProvider";
import { describeError } from "../../session/errors";
import { useLogout } from "../../session/useLogout";
import { useToast } from "../../session/useToast";

const NEAR_BOTTOM_PX = 100;

/** The terms, until accepted: the buttons unlock once the text has been scrolled to its end. */
export default function TermsOverlay() {
  const { t } = useI18n();
  const { patch } = useAccount();
  const logout = useLogout();
  const toast = useToast();
  const [terms, setTerms] = useState<string | null>(null);
  const [readToEnd, setReadToEnd] = useState(false);
  const [busy, setBusy] = useState(false);
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    api
      .getTerms()
      .then((docs) => setTerms(docs[0]?.value ?? ""))
      .catch((e) => {
        setTerms("");
        toast(describeError(e, t), "danger");
      });
  }, [t, toast]);

  const check = useCallback(() => {
    const el = box.current;
    if (el && el.scrollTop + el.clientHeight >= el.scrollHeight - NEAR_BOTTOM_PX) setReadToEnd(true);
  }, []);

  useEffect(() => {
    if (terms !== null) requestAnimationFrame(check); // short terms need no scrolling
  }, [terms, check]);

  async function accept() {
    setBusy(true);
    try {
      await api.set("readTerms", true);
      patch({ readTerms: true });
    } catch (e) {
      toast(describeError(e, t), "danger");
    } finally {
      setBusy(false);
    }
  }

  return (
    <IonModal isOpen backdropDismiss={false} className="terms-modal" aria-label={t("terms.title")}>
      <div className="terms">
        <h2>{t("terms.title")}</h2>
        <div className="terms-text" ref={box} onScroll={check} data-testid="terms-text">
          {terms === null ? <IonSpinner /> : terms ? <SafeHtml html={terms} /> : <p>{t("terms.empty")}</p>}
        </div>
        {!readToEnd && <p className="hint">{t("terms.scroll")}</p>}
        <div className="buttons">
          <IonButton fill="outline" color="medium" disabled={!readToEnd || busy} onClick={() => void logout()}>
            {t("terms.decline")}
          </IonButton>
          <IonButton disabled={!readToEnd || busy} onClick={() => void accept()}>
            {t("terms.accept")}
          </IonButton>
        </div>
      </div>
    </IonModal>
  );
}
