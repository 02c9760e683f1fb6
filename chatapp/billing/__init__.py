"""Plans, balances, the usage ledger and the rules a model call must pass.

- `plans`: what a plan allows (models, price ratios, daily free units) and each user's wallet;
- `wallet`: reserve before a call, settle or refund after it — each a conditional UPDATE;
- `rules`: the ordered chain every send passes (status → model → 敏感词 → rate → size → quota);
- `sensitive`: the operator's 敏感词, matched with Aho-Corasick, masked in streamed output;
- `credits`: redeem codes (兑换码), admin adjustments and (later) payments, booked once each.
"""
