-- A bot's handoff.minScore used to be the best passage's cosine similarity (default 0.3, stored on
-- every bot the API created). It is now the answer confidence (the probability that the best passage
-- answers, bots/answerability.ts), and unset means the bar calibrated on the development sets. The old
-- default is not a choice anyone made: drop it so those bots get the calibrated bar. A value an admin
-- chose is kept (on the same 0–1 scale, it still says "answer less readily" or "more readily").
UPDATE bots SET handoff = handoff - 'minScore' WHERE handoff->>'minScore' = '0.3';
