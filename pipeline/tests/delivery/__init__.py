"""Tests of quotes, contracts and delivery projects."""
