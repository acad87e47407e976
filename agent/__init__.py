"""The conversational agent: LLM engines, understanding a turn, tools, the LangGraph graph and session memory."""
