"""Sending findings where people triage them (AWS Security Hub)."""
