"""The plan language: När (timing) and Ansvarig (responsibility) phrases, plan documents and their content. Pure."""
