"""Fine-tuning: corpus building, LoRA training with peft, evaluation and adapter export."""
