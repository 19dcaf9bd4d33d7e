/**
 * Prompt templates, verbalizers, few-shot selection and log-likelihood / generation-based evaluation. Filled by
 * the prompting issues; the module exists so the build layout is settled.
 */
package dev.attune.prompting;
