import { LANGUAGES, type Language } from "../../../shared/src/i18n";
import { useI18n } from "../i18n/I18nProvider";

export default function LanguageSwitch() {
  const { language, setLanguage } = useI18n();
  return (
    <div className="lang" role="group">
      {LANGUAGES.map((lang: Language) => (
        <button key={lang} type="button" className={lang === language ? "selected" : ""} onClick={() => setLanguage(lang)} data-testid={`lang-${lang}`}>
          {lang === "en" ? "English" : "Português"}
        </button>
      ))}
    </div>
  );
}
