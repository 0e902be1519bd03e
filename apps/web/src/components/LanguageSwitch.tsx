import { IonSegment, IonSegmentButton } from "./ionic/later";
import { LANGUAGES, type Language } from "../i18n/core";
import { useI18n } from "../i18n/I18nProvider";

const LABELS: Record<Language, string> = { "pt-BR": "Português", en: "English" };

/** The language switch; the choice is remembered on this device. */
export default function LanguageSwitch() {
  const { language, setLanguage } = useI18n();
  return (
    <IonSegment
      className="language-switch"
      value={language}
      onIonChange={(e) => setLanguage(e.detail.value as Language)}
      aria-label="Language / Idioma"
    >
      {LANGUAGES.map((lang) => (
        <IonSegmentButton key={lang} value={lang} data-testid={`lang-${lang}`}>
          {LABELS[lang]}
        </IonSegmentButton>
      ))}
    </IonSegment>
  );
}
