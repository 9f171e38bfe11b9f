"""A tiny detoxify checkpoint for tests: a 2-layer BERT (hidden size 32) with hand-set weights.

Built in a temp directory in about a second, nothing downloaded. The weights are set so the
model's output is predictable: a comment scores high on `toxicity` and `insult` when it holds
one of TOXIC_WORDS, high on `toxicity` and `threat` when it holds one of THREAT_WORDS, and
low on everything otherwise — whatever the comment's length. So a test verdict really
depends on the model's forward pass, not on a stub.

How: ordinary tokens embed to one constant direction, the chosen words to their own
direction; attention keys read that direction, so every position attends to the chosen
words when there are any; the pooler and classifier read it off the [CLS] position.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

LABELS = [
    "toxic",  # detoxify renames these three to toxicity, severe_toxicity, identity_attack
    "severe_toxic",
    "obscene",
    "threat",
    "insult",
    "identity_hate",
]
TOXIC_WORDS = ["grobnik", "vlemp"]
THREAT_WORDS = ["kablam"]
COMMON_WORDS = [
    "the", "a", "an", "is", "are", "was", "and", "or", "but", "not", "of", "to",
    "in", "on", "for", "with", "this", "that", "it", "you", "he", "she", "they", "we",
    "i", "my", "your", "article", "news", "good", "bad", "great", "thanks", "agree", "think", "people",
    "government", "war", "peace", "russia", "europe", "today", "said", "will", "would", "very",
]
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

HIDDEN, HEADS, LAYERS = 32, 2, 2
TOXIC_DIM, THREAT_DIM, PLAIN_DIM = 0, 2, 1


def write_tokenizer_dir(directory: Path) -> Path:
    """A Hugging Face model directory (config + vocab) that BertTokenizer and BertConfig load offline."""
    from transformers import BertConfig

    directory.mkdir(parents=True, exist_ok=True)
    vocab = [*SPECIALS, *COMMON_WORDS, *TOXIC_WORDS, *THREAT_WORDS]
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    # model_max_length makes truncation=True cut at the position table's size.
    (directory / "tokenizer_config.json").write_text(
        '{"do_lower_case": true, "model_max_length": 512, "tokenizer_class": "BertTokenizer"}',
        encoding="utf-8",
    )
    _config(len(vocab)).save_pretrained(directory)
    assert isinstance(BertConfig.from_pretrained(directory), BertConfig)
    return directory


def _config(vocab_size: int) -> Any:
    from transformers import BertConfig

    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=HIDDEN,
        num_hidden_layers=LAYERS,
        num_attention_heads=HEADS,
        intermediate_size=HIDDEN,
        max_position_embeddings=512,
        num_labels=len(LABELS),
    )


def build_checkpoint(directory: Path, *, stored_model_type: str | None = None) -> Path:
    """Write `tiny.ckpt` (and its tokenizer directory) under `directory`; return the checkpoint path.

    The checkpoint stores the tokenizer directory as its `model_type`, the way a checkpoint
    runs offline; `stored_model_type` stores another (e.g. a hub name) instead.
    """
    import torch
    from transformers import BertForSequenceClassification

    hf_dir = write_tokenizer_dir(directory / "tiny-bert")
    vocab = (hf_dir / "vocab.txt").read_text(encoding="utf-8").split()
    torch.manual_seed(0)
    model = BertForSequenceClassification(_config(len(vocab)))
    _set_weights(model, vocab)
    checkpoint = {
        "config": {
            "arch": {
                "args": {
                    "model_type": stored_model_type or str(hf_dir),
                    "model_name": "BertForSequenceClassification",
                    "tokenizer_name": "BertTokenizer",
                    "num_classes": len(LABELS),
                }
            },
            "dataset": {"args": {"classes": LABELS}},
        },
        "state_dict": model.state_dict(),
    }
    path = directory / "tiny.ckpt"
    torch.save(checkpoint, path)
    return path


def _set_weights(model: Any, vocab: list[str]) -> None:
    import torch

    with torch.no_grad():
        for parameter in model.parameters():
            parameter.zero_()
        emb = model.bert.embeddings
        for index, word in enumerate(vocab):
            dim = TOXIC_DIM if word in TOXIC_WORDS else THREAT_DIM if word in THREAT_WORDS else PLAIN_DIM
            emb.word_embeddings.weight[index, dim] = 1.0
        emb.LayerNorm.weight.fill_(1.0)
        # After the layer norm a plain token reads about -0.18 on the signal dimensions;
        # shift them to 0 so only the chosen words carry signal.
        emb.LayerNorm.bias[TOXIC_DIM] = emb.LayerNorm.bias[THREAT_DIM] = 0.1796
        head = HIDDEN // HEADS
        for layer in model.bert.encoder.layer:
            attention = layer.attention.self
            for start in range(0, HIDDEN, head):
                # The key reads the signal dimensions; the query is a constant: every
                # position attends to the chosen words (uniformly to all when none).
                attention.key.weight[start, TOXIC_DIM] = 20.0
                attention.key.weight[start, THREAT_DIM] = 20.0
                attention.query.bias[start] = 20.0
            attention.value.weight.copy_(torch.eye(HIDDEN))
            layer.attention.output.dense.weight.copy_(torch.eye(HIDDEN))
            layer.attention.output.LayerNorm.weight.fill_(1.0)
            layer.output.LayerNorm.weight.fill_(1.0)
        model.bert.pooler.dense.weight[TOXIC_DIM, TOXIC_DIM] = 2.0
        model.bert.pooler.dense.weight[THREAT_DIM, THREAT_DIM] = 2.0
        classifier = model.classifier
        classifier.bias.fill_(-6.0)
        for label, dims in {"toxic": (TOXIC_DIM, THREAT_DIM), "insult": (TOXIC_DIM,), "threat": (THREAT_DIM,)}.items():
            for dim in dims:
                classifier.weight[LABELS.index(label), dim] = 12.0
