import { IonButton, IonCard, IonCardContent, IonIcon } from "@ionic/react";
import { eyeOffOutline, eyeOutline } from "ionicons/icons";
import { useEffect, useState } from "react";
import type { MessageKey } from "../../i18n/core";
import { useI18n } from "../../i18n/I18nProvider";

const SLIDES: MessageKey[] = ["slide.1", "slide.2", "slide.3", "slide.4", "slide.5"];
const SLIDE_MS = 10_000;

/** Between orders: the waiting text, with rotating slides when the user wants them. */
export default function WaitingCard({ slides }: { slides: boolean }) {
  const { t } = useI18n();
  const [visible, setVisible] = useState(true);
  const [index, setIndex] = useState(() => Math.floor(Math.random() * SLIDES.length));

  useEffect(() => {
    if (!slides || !visible) return;
    const timer = window.setInterval(() => setIndex((i) => (i + 1) % SLIDES.length), SLIDE_MS);
    return () => window.clearInterval(timer);
  }, [slides, visible]);

  return (
    <IonCard className="waiting-card">
      <IonCardContent>
        {slides && (
          <IonButton
            fill="clear"
            size="small"
            className="eye"
            aria-label={t("glimpse.toggleSlides")}
            onClick={() => setVisible((v) => !v)}
          >
            <IonIcon aria-hidden="true" icon={visible ? eyeOutline : eyeOffOutline} />
          </IonButton>
        )}
        <p>{t("glimpse.waitingOrder")}</p>
        {slides && visible && <blockquote className="slide">{t(SLIDES[index])}</blockquote>}
      </IonCardContent>
    </IonCard>
  );
}
