"""What a guest's file systems say about it: facts, the image-check risks they predict."""
