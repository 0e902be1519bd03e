import type { Colour } from "../../lib/candles";
import { useI18n } from "../../i18n/I18nProvider";

const CLASS: Record<Colour, string> = { [-1]: "red", 0: "doji", 1: "green" };

interface Props {
  candles: Colour[];
  selected?: number | null;
  onSelect?: (index: number) => void;
}

/** A strategy's candles as coloured boxes, oldest first; tappable in the editor. */
export default function CandleRow({ candles, selected, onSelect }: Props) {
  const { t } = useI18n();
  const names: Record<Colour, string> = { [-1]: t("candle.red"), 0: t("candle.doji"), 1: t("candle.green") };
  return (
    <div className="candle-row" data-testid="candle-row">
      {candles.map((c, i) =>
        onSelect ? (
          <button
            type="button"
            key={i}
            className={`candle ${CLASS[c]}${selected === i ? " selected" : ""}`}
            aria-label={`${i + 1}: ${names[c]}`}
            aria-pressed={selected === i}
            onClick={() => onSelect(i)}
          />
        ) : (
          <span key={i} className={`candle ${CLASS[c]}`} title={names[c]} />
        ),
      )}
    </div>
  );
}
