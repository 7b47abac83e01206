"""The smart assistant (智能客服): answers from a knowledge base, suggests a kind and reason, hands off to people.

Everything runs on this machine: jieba segments the text, BM25 (rank-bm25) retrieves knowledge entries,
and a small softmax classifier (numpy) trained from `data/` at first use suggests the request's kind and
reason. Item-aware answers come from `cases.policy`, the same functions the request form uses.
"""
