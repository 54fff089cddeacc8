"""Small Changes: a chat bot that helps teams make small everyday improvements and thank each other."""
