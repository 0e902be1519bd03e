import { useState } from "react";
import { formatDateTime } from "../../../shared/src/format";
import { api, idOf, type Query } from "../api";
import Frame, { Pager } from "../components/Frame";
import { useI18n } from "../i18n/I18nProvider";
import { usePaged } from "../lib/hooks";
import { useSession } from "../session";

export default function SupportPage() {
  const { t, language } = useI18n();
  const { act } = useSession();
  const [query, setQuery] = useState<Query>({ limit: 25, answered: false });
  const [answers, setAnswers] = useState<Record<string, string>>({});
  const pager = usePaged(api.questions, query);
  return (
    <Frame title={t("menu.support")}>
      <div className="filters">
        <select data-testid="questions-filter" onChange={(e) => setQuery({ limit: 25, answered: e.target.value === "" ? undefined : e.target.value === "yes" })} defaultValue="no">
          <option value="no">{t("support.open")}</option>
          <option value="yes">{t("support.answered")}</option>
          <option value="">{t("codes.all")}</option>
        </select>
      </div>
      {pager.rows.map((q) => {
        const id = idOf(q._id);
        return (
          <section key={id} className="card question" data-testid="question">
            <p className="meta">{q.who} · {formatDateTime(q.when, language)}</p>
            <p className="text">{q.question}</p>
            {q.answer ? (
              <p className="answer">{t("support.answeredBy", { who: q.answeredBy ?? "" })}: {q.answer}</p>
            ) : (
              <form className="action column" onSubmit={(e) => { e.preventDefault(); const text = (answers[id] ?? "").trim(); if (text) void act(() => api.answer(id, text), t("toast.done")).then(pager.reload); }}>
                <textarea data-testid="answer-text" value={answers[id] ?? ""} onChange={(e) => setAnswers({ ...answers, [id]: e.target.value })} placeholder={t("support.answer")} />
                <button type="submit" data-testid="answer-send">{t("support.send")}</button>
              </form>
            )}
          </section>
        );
      })}
      {!pager.loading && pager.rows.length === 0 && <p className="empty">{t("common.none")}</p>}
      <Pager pager={pager} />
    </Frame>
  );
}
