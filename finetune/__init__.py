"""Fine-tuning: corpus building (comments, lyrics, captions), LoRA training with peft, evaluation, adapter export.

Front doors: `finetune.corpus.build(lyrics=[...], comments=[...])` makes the corpus; `finetune.train.train(corpus,
TrainConfig(...))` trains, evaluates and exports the adapter. Stands alone: it reads corpora and writes adapters
that the agent loads by path (`ENCORE_ADAPTER`, `encore serve --adapter`).
"""
