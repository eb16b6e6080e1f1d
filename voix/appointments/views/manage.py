"""(to be written)"""

urls = []
